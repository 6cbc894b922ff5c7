"""Protection of the public portal: personal data, hostile sources, secrets."""
