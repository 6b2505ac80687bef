"""A form's errors on one line, each naming its field once (regions/form_messages.py)."""

from __future__ import annotations

from django import forms, template

from regions.form_messages import error_summary

register = template.Library()


@register.filter
def error_line(form: forms.BaseForm) -> str:
    return "；".join(error_summary(form))
