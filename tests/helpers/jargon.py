"""Words a medewerker does not know, for tests of the texts that users read."""

from __future__ import annotations

import re

# The check trace keeps these for the servicedesk. "herkenningsmakelaar" on its own (the broker) is too easily
# confused with the user's eHerkenningsmakelaar.
JARGON = re.compile(r"artefact|artifact|SOAP|SAML|urn:|SourceID|Content-Type|https?://|\bherkenningsmakelaar", re.I)
