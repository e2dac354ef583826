"""The servicedesk console: lookup by reference code, paste analyser, counts, audit log, feedback."""
