-- Per-request latency injection for the add-latency experiment (tc netem does
-- not exist on this kernel). The delay is a process variable toggled at
-- runtime on the admin socket:
--   experimental-mode on; set var proc.delay_ms int(250)
core.register_action("gameday_delay", { "http-req" }, function(txn)
  local ms = txn:get_var("proc.delay_ms")
  if ms ~= nil and ms > 0 then
    core.msleep(ms)
  end
end, 0)
