"""Post-deployment verification: a live server answers the held-out split as the export did."""
