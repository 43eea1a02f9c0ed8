import os

from celery import Celery
from celery.signals import worker_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@worker_process_init.connect
def warm_url_resolver(**_kwargs):
    """Import the URLconf and build its reverse maps when a worker starts (in the main
    process, which prefork children inherit, and again, cheaply, in each child), rather than
    in the first task that calls ``reverse()``: the SLA sweep's first batch paid ~1-2 s for
    it. Django is set up by then (Celery's Django fix-up runs first on ``worker_init``)."""
    from django.urls import reverse

    reverse("admin:index")
