/**
 * Target (a) of `npm run bench`, the ceiling: a bare fastify server whose POST /v1/decisions
 * parses the JSON body like any fastify route and answers a constant decision, so its rate is
 * what fastify and Node's HTTP stack reach on this machine with no work behind the route.
 * Plain JavaScript on purpose: it runs under `node` with no loader, as the compiled service does,
 * so its RSS is comparable. PORT selects the port (default: any free one, printed).
 */
import Fastify from "fastify";

const decision = JSON.stringify({
  decision_id: "dec_06h0xbz6j9hj36gt4zbaa5peem",
  allow: true,
  cost: 50,
  reasons: [{ code: "PRICE_APPLIED", message: "tool.call web.search: 50" }],
  obligations: {},
  balances: { trial: 0, paid: 99999950, promo: 0, admin: 0 },
  policy_revision: "ceiling",
});

const app = Fastify({ logger: false });
app.get("/readyz", async () => ({ status: "ready" }));
app.post("/v1/decisions", async (_request, reply) =>
  reply.header("content-type", "application/json; charset=utf-8").send(decision),
);

const address = await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT ?? 0) });
process.stdout.write(`ceiling listening on ${address}\n`);
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.once(signal, () => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
