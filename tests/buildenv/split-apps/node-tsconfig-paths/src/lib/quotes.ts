export const quotes = ["Simple is better than complex.", "Readability counts."];
