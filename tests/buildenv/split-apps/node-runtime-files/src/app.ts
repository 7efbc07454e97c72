import * as http from "http";
import { readFileSync } from "fs";
import { join } from "path";

const root = join(__dirname, "..");
const schema = readFileSync(join(root, "db", "schema.sql"), "utf8");
const spec = readFileSync(join(root, "api/openapi.yaml"), "utf8");

http
  .createServer((req, res) => {
    if (req.url === "/openapi.yaml") {
      res.end(spec);
      return;
    }
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ tables: schema.match(/CREATE TABLE/g)?.length ?? 0 }));
  })
  .listen(Number(process.env.PORT ?? 8080));
