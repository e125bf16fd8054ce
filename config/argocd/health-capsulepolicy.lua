-- Argo CD health of a RECap CapsulePolicy: the value of
-- resource.customizations.health.recap.dev_CapsulePolicy in argocd-cm
-- (argocd-cm-patch.yaml; docs/gitops.md). Argo CD sets `obj`.
-- Ready: Healthy (the controller enforces it); Stalled: Degraded.
local status = obj.status or {}
local generation = (obj.metadata or {}).generation
local function condition(t)
  for _, c in ipairs(status.conditions or {}) do
    if c.type == t then return c end
  end
end

if generation ~= nil and status.observedGeneration ~= nil and status.observedGeneration < generation then
  return { status = "Progressing", message = string.format("Waiting for the controller to observe generation %d", generation) }
end
local stalled, ready = condition("Stalled"), condition("Ready")
if stalled and stalled.status == "True" then
  return { status = "Degraded", message = stalled.message or stalled.reason or "Stalled" }
end
if ready and ready.status == "True" then return { status = "Healthy", message = ready.message or "Ready" } end
return { status = "Progressing", message = (ready and ready.message) or "Waiting for the controller" }
