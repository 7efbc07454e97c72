import express, { Request, Response } from "express";
import { quote } from "./pricing";

const app = express();

app.get("/", (_req: Request, res: Response) => {
  res.json({ service: "pricing-service", status: "ok" });
});

app.get("/quote/:sku", (req: Request, res: Response) => {
  res.json(quote(req.params.sku, Number(req.query.qty ?? 1)));
});

const port = Number(process.env.PORT ?? 3000);
app.listen(port, () => console.log(`pricing-service listening on ${port}`));
