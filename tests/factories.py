"""factory_boy factories for the portal's models."""

import importlib

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from sla.models import (
    Calendar,
    EscalationPolicy,
    Holiday,
    ManagementContact,
    OnCallMember,
    OnCallOverride,
    Priority,
    Service,
    ServiceCustomer,
    StaffService,
    Tier,
)
from tickets.models import Message, Ticket

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    username = factory.LazyAttribute(lambda o: o.email)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    is_active = True

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])


class CustomerFactory(UserFactory):
    email = factory.Sequence(lambda n: f"customer{n}@example.com")

    @factory.post_generation
    def services(obj, create, extracted, **kwargs):
        for service in extracted or ():
            ServiceCustomer.objects.get_or_create(service=service, customer=obj)


class StaffFactory(UserFactory):
    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    is_staff = True

    @factory.post_generation
    def tier(obj, create, extracted, **kwargs):
        if extracted:
            obj.groups.add(tier_group(extracted))

    @factory.post_generation
    def services(obj, create, extracted, **kwargs):
        """``services=[a, b]``: the member works those services only (none: every service)."""
        for service in extracted or ():
            StaffService.objects.get_or_create(user=obj, service=service)


# The data migrations that create the tier groups and grant them each app's permissions, in
# the order they ran (tickets creates the groups; the other apps add to them).
TIER_MIGRATIONS = (
    "tickets.migrations.0002_tier_groups",
    "tickets.migrations.0003_tier_notification_retry",
    "incidents.migrations.0003_tier_permissions",
    "incidents.migrations.0007_publish_permission",
    "routine.migrations.0002_tier_permissions",
    "contracts.migrations.0002_tier_permissions",
    "tickets.migrations.0009_canned_reply_permissions",
    "knowledge.migrations.0003_tier_permissions",
)


def tier_group(level):
    """The tier's group, re-created by the data migrations if a transactional test flushed it
    (with every app's permissions, as ``migrate`` leaves it)."""
    group = Group.objects.filter(name=f"Tier {level}").first()
    if group is None:
        from django.apps import apps
        from django.db.migrations import RunPython

        for name in TIER_MIGRATIONS:
            migration = importlib.import_module(name)
            for operation in migration.Migration.operations:
                if isinstance(operation, RunPython):
                    operation.code(apps, None)
        group = Group.objects.get(name=f"Tier {level}")
    return group


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"service-{n}")
    name = factory.Sequence(lambda n: f"Service {n}")
    timezone = "UTC"
    contact = "support@example.com"


class PriorityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Priority
        django_get_or_create = ("service", "code")

    service = factory.SubFactory(ServiceFactory)
    code = factory.Sequence(lambda n: f"P{n}")
    name = "High"
    description = "Core feature broken, workaround available."
    response = "1h"
    resolution = "8h"
    position = factory.Sequence(lambda n: n)


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tier
        django_get_or_create = ("service", "level")

    service = factory.SubFactory(ServiceFactory)
    level = 1
    name = "Helpdesk"


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    service = factory.SubFactory(ServiceFactory)
    customer = factory.LazyAttribute(lambda o: CustomerFactory(services=[o.service]))
    priority = factory.LazyAttribute(lambda o: PriorityFactory(service=o.service))
    subject = factory.Sequence(lambda n: f"Problem number {n}")
    description = "Something is broken.\nSecond line."


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    ticket = factory.SubFactory(TicketFactory)
    author = factory.LazyAttribute(lambda o: o.ticket.customer)
    body = "A message."
    internal = False


class CalendarFactory(factory.django.DjangoModelFactory):
    """Mon–Fri 09:00–18:00 in New York unless told otherwise."""

    class Meta:
        model = Calendar
        django_get_or_create = ("service", "name")

    service = factory.SubFactory(ServiceFactory)
    name = factory.Sequence(lambda n: f"calendar-{n}")
    timezone = "America/New_York"
    hours = factory.LazyFunction(lambda: {"mon-fri": [["09:00", "18:00"]]})


class HolidayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Holiday

    calendar = factory.SubFactory(CalendarFactory)
    name = "Holiday"


class EscalationPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EscalationPolicy
        django_get_or_create = ("service",)

    service = factory.SubFactory(ServiceFactory)
    warn_at = 75
    management_chain = factory.LazyFunction(list)
    pause_statuses = factory.LazyFunction(lambda: ["waiting_on_customer"])


class OnCallMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OnCallMember

    service = factory.SubFactory(ServiceFactory)
    tier_level = 3
    user = factory.SubFactory(StaffFactory, tier=3)
    position = factory.Sequence(lambda n: n)


class OnCallOverrideFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OnCallOverride

    service = factory.SubFactory(ServiceFactory)
    tier_level = 3
    layer = "primary"
    user = factory.SubFactory(StaffFactory, tier=3)


class ManagementContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ManagementContact

    service = factory.SubFactory(ServiceFactory)
    role = "Tech Lead"
    email = factory.Sequence(lambda n: f"manager{n}@example.com")
