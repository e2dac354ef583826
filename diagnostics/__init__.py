"""Inloghulp Bronhouderportaal: login help and login diagnostics for eHerkenning and e-mail accounts."""

__version__ = "0.1.0"
