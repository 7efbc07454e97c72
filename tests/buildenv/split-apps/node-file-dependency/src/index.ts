import * as http from "http";
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { formatOrder } = require("@acme/shared");

const port = Number(process.env.PORT || 8080);
let next = 1;
http
  .createServer((_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ order: formatOrder(next++) }));
  })
  .listen(port, () => console.log(`orders-api listening on ${port}`));
