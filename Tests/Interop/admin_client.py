"""Helpers for the admin page tests: a free port, a gateway with its admin page, and a small
REST client (requests) that keeps the session cookie and sends the CSRF token."""

import requests

from conftest import free_port

PASSWORD = "correct horse battery"


def admin_gateway(make, *extra):
    """A gateway (from the `own_gateway` factory) with its admin page on a free port."""
    return make("--admin-port", str(free_port()), *extra)


class Admin:
    def __init__(self, gateway):
        self.base = f"http://127.0.0.1:{gateway.admin_port}"
        self.http = requests.Session()
        self.csrf = None

    def url(self, path):
        return self.base + path

    def get(self, path, **kwargs):
        return self.http.get(self.url(path), timeout=10, **kwargs)

    def send(self, method, path, csrf=True, **kwargs):
        headers = kwargs.pop("headers", {})
        if csrf and self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        return self.http.request(method, self.url(path), headers=headers, timeout=10, **kwargs)

    def setup(self, password=PASSWORD):
        answer = self.send("POST", "/api/auth/setup", json={"password": password})
        if answer.status_code == 200:
            self.csrf = answer.json()["csrf"]
        return answer

    def login(self, password=PASSWORD):
        answer = self.send("POST", "/api/auth/login", json={"password": password})
        if answer.status_code == 200:
            self.csrf = answer.json()["csrf"]
        return answer


def ready_admin(make, *extra):
    """A gateway whose admin password is set, and a client logged in to it."""
    gateway = admin_gateway(make, *extra)
    admin = Admin(gateway)
    assert admin.setup().status_code == 200
    return gateway, admin
