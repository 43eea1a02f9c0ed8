"""Figures as the uptime pages show them."""

from django import template

from uptime.figures import minutes_text, percent_text

register = template.Library()
register.filter("percent", percent_text)
register.filter("minutes", minutes_text)
