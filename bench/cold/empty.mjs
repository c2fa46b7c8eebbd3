// The runtime alone: the floor under every cold start.
console.log(JSON.stringify({ readyMs: performance.now() }));
