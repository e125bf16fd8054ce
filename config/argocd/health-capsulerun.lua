-- Argo CD health of a RECap CapsuleRun: the value of
-- resource.customizations.health.recap.dev_CapsuleRun in argocd-cm
-- (argocd-cm-patch.yaml; docs/gitops.md). Argo CD sets `obj`.
-- The controller's conditions decide (Stalled or Failed: Degraded; Complete:
-- Healthy; Reconciling: Progressing); without them, status.phase does.
local status = obj.status or {}
local generation = (obj.metadata or {}).generation
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

if generation ~= nil and status.observedGeneration ~= nil and status.observedGeneration < generation then
  return { status = "Progressing", message = string.format("Waiting for the controller to observe generation %d", generation) }
end
local c = true_condition("Stalled") or true_condition("Failed")
if c then return { status = "Degraded", message = said(c) } end
c = true_condition("Complete")
if c then return { status = "Healthy", message = said(c) } end
c = true_condition("Reconciling")
if c then return { status = "Progressing", message = said(c) } end

local phase = status.phase
if phase == "Succeeded" then return { status = "Healthy", message = phase } end
if phase == "Failed" or phase == "PartiallyFailed" or phase == "Cancelled" then
  return { status = "Degraded", message = phase }
end
return { status = "Progressing", message = phase or "Waiting for the controller" }
