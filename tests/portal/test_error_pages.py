import pytest


@pytest.mark.django_db
def test_not_found_page_keeps_the_portal_layout(client, customer):
    """A 404 (e.g. another customer's ticket) is a portal page with navigation, not a bare one."""
    client.force_login(customer)
    response = client.get("/tickets/999999/")
    assert response.status_code == 404
    content = response.content.decode()
    assert "Not found" in content
    assert "My tickets" in content
