import { createServer } from "node:http";
import { mkdirSync, writeFileSync } from "node:fs";
import sharp from "sharp";

const uploads = process.env.UPLOAD_DIR ?? "./uploads";
mkdirSync(uploads, { recursive: true });

createServer(async (_req, res) => {
  // a native module at work: render, resize and store a PNG
  const png = await sharp({
    create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 30, b: 30 } },
  })
    .resize(16, 16)
    .png()
    .toBuffer();
  writeFileSync(`${uploads}/thumb.png`, png);
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ bytes: png.length, format: (await sharp(png).metadata()).format }));
}).listen(Number(process.env.PORT ?? 3000));
