import * as http from "http";
import { quotes } from "@lib/quotes";

const port = Number(process.env.PORT ?? 3000);
http
  .createServer((_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ quote: quotes[Date.now() % quotes.length] }));
  })
  .listen(port, () => console.log(`quotes-api on ${port}`));
