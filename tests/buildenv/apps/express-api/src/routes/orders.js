import { Router } from "express";

const router = Router();
const orders = [{ id: "A-1001", total: 42.5 }];

router.get("/", (_req, res) => res.json(orders));
router.post("/", (req, res) => {
  const order = { id: `A-${1000 + orders.length + 1}`, ...req.body };
  orders.push(order);
  res.status(201).json(order);
});

export default router;
