from django.urls import path

from techparts.events.api import EventListView

urlpatterns = [path("events", EventListView.as_view(), name="events-list")]
