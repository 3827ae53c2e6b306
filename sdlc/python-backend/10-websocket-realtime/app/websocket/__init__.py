"""Real-time over WebSocket (step 10): protocol, hub, rooms, Redis relay, JS client."""
