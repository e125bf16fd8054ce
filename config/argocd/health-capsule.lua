-- Argo CD health of a RECap Capsule: the value of
-- resource.customizations.health.recap.dev_Capsule in argocd-cm
-- (argocd-cm-patch.yaml; docs/gitops.md). Argo CD sets `obj`.
-- Refused (Stalled: a CapsulePolicy violation, an invalid spec): Degraded,
-- suspended or not, as a spec that cannot run is what needs fixing.
-- spec.schedule.suspend: Suspended. Admitted (Ready): Healthy.
local status = obj.status or {}
local generation = (obj.metadata or {}).generation
local function condition(t)
  for _, c in ipairs(status.conditions or {}) do
    if c.type == t then return c end
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
local stalled, ready = condition("Stalled"), condition("Ready")
if stalled and stalled.status == "True" then
  -- Ready says why in detail (the policy rule, the field)
  return { status = "Degraded", message = said(ready and ready.status == "False" and ready or stalled) }
end
local schedule = (obj.spec or {}).schedule or {}
if schedule.suspend == true then
  return { status = "Suspended", message = "spec.schedule.suspend: no new scheduled runs" }
end
if ready and ready.status == "True" then return { status = "Healthy", message = said(ready) } end
if ready then return { status = "Progressing", message = said(ready) } end
return { status = "Progressing", message = "Waiting for the controller to admit the Capsule" }
