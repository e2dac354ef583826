"""Embedded eHerkenning broker simulator: a SAML IdP with scenarios, mounted at ``/simulator``.

Clearly a simulator: its entity ids use the test index range and a fake OIN, and every screen says
"Simulator – geen echte eHerkenning".
"""
