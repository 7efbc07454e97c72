defmodule Chat.MixProject do
end
