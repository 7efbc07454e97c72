import express from "express";
import morgan from "morgan";
import orders from "./routes/orders";

const app = express();
app.use(express.json());
app.use(morgan("tiny"));
app.get("/", (_req, res) => res.json({ service: "orders-api", status: "ok" }));
app.use("/orders", orders);

const port = Number(process.env.PORT || 3000);
app.listen(port, () => console.log(`orders-api listening on ${port}`));
