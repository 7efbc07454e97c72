'use strict';

const fs = require('fs');
const path = require('path');
const express = require('express');

const dataDir = process.env.DATA_DIR || path.join(__dirname, 'data');
fs.mkdirSync(dataDir, { recursive: true });
const notes = path.join(dataDir, 'notes.jsonl');

const app = express();

app.get('/', (req, res) => {
  fs.appendFileSync(notes, JSON.stringify({ at: Date.now() }) + '\n');
  const count = fs.readFileSync(notes, 'utf8').split('\n').filter(Boolean).length;
  res.json({ notes: count });
});

app.listen(3000, () => console.log('listening on 3000'));
