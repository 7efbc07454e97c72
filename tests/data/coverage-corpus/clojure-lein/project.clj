(defproject app "0.1.0"
  :main app.core)
