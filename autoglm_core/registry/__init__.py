"""Model names, aliases, versions and traffic between versions."""
