"""django-axes' log-in records (attempts, log, failures) as axes registers them, with their
date hierarchy bounded: an out-of-range year is a bad lookup, not a 500."""

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin

from portal.admin_filters import BoundedDateHierarchyMixin

for model in (AccessAttempt, AccessLog, AccessFailureLog):
    # axes registers each only when its settings ask for it: keep exactly what it registered.
    if admin.site.is_registered(model):
        shipped = type(admin.site.get_model_admin(model))
        admin.site.unregister(model)
        admin.site.register(model, type(shipped.__name__, (BoundedDateHierarchyMixin, shipped), {}))
