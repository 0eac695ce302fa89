CREATE INDEX "Order_customerId_idx" ON "Order"("customerId");
