import "./deps.ts"
