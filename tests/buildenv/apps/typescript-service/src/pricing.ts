export interface Quote {
  sku: string;
  quantity: number;
  total: number;
}

export function quote(sku: string, quantity: number): Quote {
  const unit = sku.startsWith("PRO-") ? 19.5 : 9.75;
  return { sku, quantity, total: Math.round(unit * quantity * 100) / 100 };
}
