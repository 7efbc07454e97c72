defmodule MyApp.MixProject do
end
