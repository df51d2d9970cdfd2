"""`ModelAdmin[Model]`-style admin base classes for both apps' admin modules.

The admin classes are generic in django-stubs only, and this project does not call
`django_stubs_ext.monkeypatch()`: at runtime `Admin[Model]` is `Admin` itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin, StackedInline, TabularInline
else:

    class _RuntimeGeneric:
        """Subscriptable at runtime: `ModelAdmin[Person]` gives `admin.ModelAdmin`."""

        def __init__(self, cls: type) -> None:
            self._cls = cls

        def __getitem__(self, params: object) -> type:
            return self._cls

    ModelAdmin = _RuntimeGeneric(admin.ModelAdmin)
    StackedInline = _RuntimeGeneric(admin.StackedInline)
    TabularInline = _RuntimeGeneric(admin.TabularInline)

__all__ = ["ModelAdmin", "StackedInline", "TabularInline"]
