from django.urls import path

from claims import api, exports, views
from claims.feeds import ClaimFeed

app_name = "claims"

urlpatterns = [
    path("", views.home, name="home"),
    path("claims/", views.claim_list, name="list"),
    path("claims.csv", exports.claims_csv, name="export-csv"),
    path("claims.json", exports.claims_json, name="export-json"),
    # Before claims/<slug>/, which would read "feed" as a slug.
    path("claims/feed/", ClaimFeed(), name="feed"),
    path("claims/<slug:slug>/", views.claim_detail, name="detail"),
    path("clinics/<slug:slug>/", views.clinic_detail, name="clinic"),
    path("treatments/<slug:slug>/", views.treatment_detail, name="treatment"),
    path("sources/<slug:slug>/", views.source_detail, name="source"),
    path("evidence/", views.evidence_scale, name="evidence"),
    path("regulatory/", views.regulatory, name="regulatory"),
    path("method/", views.method, name="method"),
    path("safety/", views.safety, name="safety"),
    path("exosomes/", views.about_exosomes, name="exosomes"),
    path("api/", api.api_page, name="api"),
    path("api/claims/", api.claim_list, name="api-claims"),
    path("api/claims/<slug:slug>/", api.claim_detail, name="api-claim"),
    path("api/openapi.json", api.openapi_document, name="api-openapi"),
]
