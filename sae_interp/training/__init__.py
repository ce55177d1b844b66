"""Training the SAEs shipped with the embedded default (see ``default_saes``)."""
