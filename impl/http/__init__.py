"""The HTTP(S) binding of the protocol (docs/wire.md): a DS as a network service.

- `wire`: the TransactionEnvelope every request and answer is wrapped in, its types, the
  transport signature, the HTTP status of every refusal;
- `config`: a DS's TOML configuration and a world's files, read strictly;
- `relay`: the durable relay (envelopes still to be POSTed) and the members' queues;
- `server`: the ASGI adapter over DurableDS, served by uvicorn (`mimi-portability serve`);
- `client`: the HTTP side of a party: POST with retries of the same bytes, a durable
  client that fetches its queues;
- `world`: `world init` (keys, certificates, configs) and starting servers as processes;
- `workload`, `demo`: what drives clients against running servers.
"""
