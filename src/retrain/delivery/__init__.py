"""Delivery: what a merge deploys, planned as pure values and carried out through small ports.

    release  which specs changed since the last release (content hashes), the release index
    templates compiled templates keyed by commit sha; images checked before anything is published
    functions the four Cloud Functions: staged source and `gcloud functions deploy` argv
    schedules  spec `triggers.schedule` -> Cloud Scheduler jobs ticking `on_schedule`
    promotions `promotion` sections changed between two git revisions -> Model Registry aliases
    infra      names and log-sink filters handed to Terraform

Each step builds a `plan.DeliveryPlan` (typed actions, in order) and changes nothing; the CLI
prints it for `--dry-run` or hands it to `apply`, which carries it out through the ports: `storage`
(google-cloud-storage), the Model Registry (`retrain.google.model_registry`), the run backend,
and a `Runner` for the gcloud commands no client library replaces.
"""
