"""What every API view shares: ETags on reads, and writes recorded with their token."""

from django.db import transaction
from rest_framework.generics import GenericAPIView

from ..etags import with_etag
from ..services import api_write_record

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


class ApiView(GenericAPIView):
    # Base of the API's views (a comment, not a docstring: the schema would show it).
    # A write runs in one transaction with its ``ApiWrite`` row: the services' own transactions
    # nest inside it, so a refused write (4xx) records nothing and a recorded one committed. A
    # view names what it changed in ``self.write_target``.

    write_target = ""

    def dispatch(self, request, *args, **kwargs):
        if request.method not in UNSAFE:
            return with_etag(request, super().dispatch(request, *args, **kwargs))
        with transaction.atomic():
            response = super().dispatch(request, *args, **kwargs)
            token = getattr(self.request, "auth", None)
            if response.status_code < 400 and token is not None:
                api_write_record(
                    token=token,
                    method=request.method,
                    path=request.path,
                    target=self.write_target,
                )
        return response
