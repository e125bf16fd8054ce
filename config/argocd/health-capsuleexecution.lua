-- Argo CD health of a RECap CapsuleExecution: the value of
-- resource.customizations.health.recap.dev_CapsuleExecution in argocd-cm
-- (argocd-cm-patch.yaml; docs/gitops.md). Argo CD sets `obj`.
-- The node agent's conditions decide (Stalled: Degraded, its reason is
-- status.reason; Reconciling: Progressing); then status.phase (Succeeded:
-- Healthy, Failed: Degraded, any other: Progressing).
local status = obj.status or {}
local function true_condition(t)
  for _, c in ipairs(status.conditions or {}) do
    if c.type == t and c.status == "True" then return c end
  end
end
-- "Reason: message", or whichever of them is set.
local function said(c)
  local parts = {}
  for _, s in ipairs({ c.reason, c.message }) do
    if type(s) == "string" and s ~= "" then parts[#parts + 1] = s end
  end
  return table.concat(parts, ": ")
end

local c = true_condition("Stalled")
if c then return { status = "Degraded", message = said(c) } end
c = true_condition("Reconciling")
if c then return { status = "Progressing", message = said(c) } end
local phase = status.phase
if phase == "Succeeded" then return { status = "Healthy", message = phase } end
if phase == "Failed" then
  return { status = "Degraded", message = said({ reason = status.reason, message = status.message }) }
end
return { status = "Progressing", message = phase or "Waiting for the node agent" }
