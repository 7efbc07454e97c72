import { quote } from "./pricing";

test("quotes pro items at the pro price", () => {
  expect(quote("PRO-1", 2).total).toBe(39);
});
