from django.shortcuts import render

from sla.models import Service


def calendar(request):
    return render(request, "maintenance/calendar.html", {"services": Service.objects.all()})


def status(request):
    return render(request, "maintenance/status.html", {"services": Service.objects.all()})
