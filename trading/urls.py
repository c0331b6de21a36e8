"""Signed-in pages: login, workbench, registry, PKI, tender management."""

from django.urls import path

app_name = "trading"
urlpatterns: list = []
