"""Delivery: what a merge deploys, planned as pure values and carried out through small ports.

    release  which specs changed since the last release (content hashes), the release index
    templates compiled templates keyed by commit sha; images checked before anything is published
    functions the four Cloud Functions: staged source and `gcloud functions deploy` argv
    schedules  spec `triggers.schedule` -> Cloud Scheduler jobs ticking `on_schedule`
    promotions `promotion` sections changed between two git revisions -> Model Registry aliases
    infra      names and log-sink filters handed to Terraform

Every cloud call is an argv run through a `Runner` (gcloud) or a small Protocol; `--dry-run`
swaps in a runner that prints each command instead of running it.
"""
