"""The portal's URLs plus /bench/trivial: the baseline the load benchmark divides by.

It goes through the same middleware stack (session, authentication, CSRF, CSP, the sign-in
requirement) and reads the signed-in user, but renders no template and runs no page query, so
"page / trivial" shows what a page costs beyond the stack itself."""

from django.http import HttpResponse
from django.urls import path

from handoff.urls import urlpatterns as portal_urlpatterns


def trivial(request):
    return HttpResponse(f"signed in as {request.user.username}", content_type="text/plain")


urlpatterns = [path("bench/trivial", trivial, name="bench_trivial"), *portal_urlpatterns]
