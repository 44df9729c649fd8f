from django.urls import path

from claims import views

app_name = "claims"

urlpatterns = [
    path("", views.home, name="home"),
    path("claims/", views.claim_list, name="list"),
    path("claims/<slug:slug>/", views.claim_detail, name="detail"),
    path("clinics/<slug:slug>/", views.clinic_detail, name="clinic"),
    path("treatments/<slug:slug>/", views.treatment_detail, name="treatment"),
    path("sources/<slug:slug>/", views.source_detail, name="source"),
    path("evidence/", views.evidence_scale, name="evidence"),
    path("regulatory/", views.regulatory, name="regulatory"),
]
