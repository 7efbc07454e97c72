library(shiny)
