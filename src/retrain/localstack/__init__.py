"""The local stand-in of the cloud: emulators, functions-framework servers, Pub/Sub wiring,
and a fake Vertex PipelineService. Everything binds 127.0.0.1 on free ports."""
