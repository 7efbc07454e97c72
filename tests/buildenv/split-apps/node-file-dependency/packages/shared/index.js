exports.formatOrder = (id) => `order-${String(id).padStart(6, "0")}`;
