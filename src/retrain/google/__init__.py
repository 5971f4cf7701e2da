"""The Google wing: every Google Cloud client retrain uses, one module per service, each call
wrapped in `retrain.vendor_errors.translated` so only RetrainErrors leave it.

    clients          endpoints, credentials and timeouts: how every client is built
    vertex           Vertex AI Pipelines (PipelineService): the cloud RunBackend
    template_registry compiled templates from Cloud Storage or the Template Registry
    kfp_registry     uploads to the Template Registry (kfp, in the pipeline environment)
    model_registry   Vertex AI Model Registry: promotions
    storage          Cloud Storage objects (templates, releases, summaries, history)
    firestore        the service's state (counters, windows, claims)
    pubsub           publishing messages; wiring the local stack's topics
    cloud_logging    Cloud Logging entries (gcloud), for the inventory
    resource_names   what Google accepts as a project id and a region (pure)

Nothing else in retrain imports a Google library (the architecture contract checks it).
"""
