"""What every customer page reads about the signed-in customer, read with their account.

Each page asks who the customer is a customer of (the banner, the filters, the dashboard) and
which organisation they belong to (the access rule, the colleagues' note, the CC list): two
queries a page on top of the account's own, about a third of a page's CPU. Loaded here in the
account's query instead (``ACCOUNTS_USER_PRELOADS``, read by ``accounts.backends``): the
membership joined, the services as one JSON column. Nothing is kept between requests, so a
change of membership, of a service's name or of an organisation shows on the next page.

This package sits above ``sla`` and ``contracts`` (README's layers), so it may name their
tables; ``accounts`` below it only calls what the setting names.
"""

import json

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Expression, TextField

from sla.models import Service, ServiceCustomer

# ruff: noqa: S608 -- the SQL below holds only names from the models' metadata, quoted; no value.

# The service fields the pages read of a customer's services (the names, the zone of their
# times, the slugs of the filters and links); any other is read from the database when asked
# (a deferred field), so a page never shows less than the row holds.
SERVICE_FIELDS = ("id", "slug", "name", "timezone")


class CustomerServicesJSON(Expression):
    """The user's services as a JSON array of ``[id, slug, name, timezone, position]``
    (``position``: their place by name, as ``customer_services`` orders them), NULL or ``[]``
    for none: a correlated subquery on the user's row."""

    output_field = TextField()

    def __init__(self, fields):
        super().__init__(output_field=TextField())
        self.fields = fields

    def as_sql(self, compiler, connection):
        quote = connection.ops.quote_name
        alias = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        user = f"{alias}.{quote(compiler.query.model._meta.pk.column)}"
        membership = ServiceCustomer._meta
        columns = ", ".join(f"s.{quote(field.column)}" for field in self.fields)
        listed = ", ".join(f"r.{quote(field.column)}" for field in self.fields)
        name = quote(Service._meta.get_field("name").column)
        pk = quote(Service._meta.pk.column)
        if connection.vendor == "postgresql":
            aggregate, array, cast = "JSON_AGG", "JSON_BUILD_ARRAY", "::text"
        else:
            aggregate, array, cast = "JSON_GROUP_ARRAY", "JSON_ARRAY", ""
        sql = (
            f"(SELECT {aggregate}({array}({listed}, r.position)){cast} FROM ("
            f"SELECT {columns}, ROW_NUMBER() OVER (ORDER BY s.{name}, s.{pk}) AS position "
            f"FROM {quote(Service._meta.db_table)} s "
            f"INNER JOIN {quote(membership.db_table)} m "
            f"ON m.{quote(membership.get_field('service').column)} = s.{pk} "
            f"WHERE m.{quote(membership.get_field('customer').column)} = {user}) r)"
        )
        return sql, []


class CustomerContext:
    """``ACCOUNTS_USER_PRELOADS`` entry: the customer's services and organisation membership
    with the account (``sla.selectors.customer_services`` and the membership relation then
    answer without a query)."""

    @staticmethod
    def extend(users):
        fields = [f for f in Service._meta.concrete_fields if f.name in SERVICE_FIELDS]
        return users.select_related("organization_membership__organization").annotate(
            customer_services_json=CustomerServicesJSON(fields)
        )

    @staticmethod
    def loaded(user):
        rows = json.loads(user.__dict__.pop("customer_services_json") or "[]")
        rows.sort(key=lambda row: row[-1])
        names = [f.attname for f in Service._meta.concrete_fields if f.name in SERVICE_FIELDS]
        db = user._state.db
        # The attribute ``customer_services`` keeps for the request (sla/selectors.py).
        user._customer_services = [Service.from_db(db, names, row[:-1]) for row in rows]


def in_an_organisation(user):
    """Whether ``user`` belongs to an organisation: no query when the membership came with the
    user (``CustomerContext``), else one."""
    try:
        user.organization_membership  # noqa: B018 -- the read is the question
    except (AttributeError, ObjectDoesNotExist):
        return False
    return True
