-- Argo CD health check for exposure.dev/v1alpha1 Exposure.
--
-- It reads what the operator writes (api/v1alpha1/conditions.go):
--   * status.observedGeneration behind metadata.generation: the operator has
--     not looked at the latest spec yet                          -> Progressing
--   * Stalled=True: the reconcile cannot continue until the user acts (an
--     object of the same name it does not own, a missing Secret, a refused
--     policy); the message says what to fix                      -> Degraded
--   * Ready=True: every part of the exposure stack is ready      -> Healthy
--   * otherwise the operator is converging; Ready (or Reconciling) says
--     which part it waits for                                    -> Progressing
--
-- Only Lua's base library is used: a script installed through argocd-cm runs
-- without the standard libraries (no string.format) unless useOpenLibs is set.
-- Install: samples/argocd/argocd-cm.yaml holds this script, byte for byte.

local hs = {}

local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end

local function waiting()
  hs.status = "Progressing"
  if generation ~= nil then
    hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  else
    hs.message = "Waiting for the operator to report status"
  end
  return hs
end

-- A condition written for an older generation says nothing about this one.
local function current(condition)
  return generation == nil or condition.observedGeneration == nil or condition.observedGeneration >= generation
end

local function findCondition(conditionType)
  if obj.status.conditions == nil then
    return nil
  end
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == conditionType then
      return condition
    end
  end
  return nil
end

local function messageOf(condition)
  if condition.message ~= nil and condition.message ~= "" then
    return condition.message
  end
  if condition.reason ~= nil and condition.reason ~= "" then
    return condition.type .. " is " .. tostring(condition.status) .. ": " .. condition.reason
  end
  return condition.type .. " is " .. tostring(condition.status)
end

if obj.status == nil then
  return waiting()
end
if generation ~= nil and (obj.status.observedGeneration == nil or obj.status.observedGeneration < generation) then
  return waiting()
end

local stalled = findCondition("Stalled")
if stalled ~= nil and stalled.status == "True" and current(stalled) then
  hs.status = "Degraded"
  hs.message = messageOf(stalled)
  return hs
end

local ready = findCondition("Ready")
if ready ~= nil then
  if not current(ready) then
    return waiting()
  end
  if ready.status == "True" then
    hs.status = "Healthy"
  else
    hs.status = "Progressing"
  end
  hs.message = messageOf(ready)
  return hs
end

local reconciling = findCondition("Reconciling")
if reconciling ~= nil and current(reconciling) then
  hs.status = "Progressing"
  hs.message = messageOf(reconciling)
  return hs
end

hs.status = "Progressing"
hs.message = "Waiting for the operator to report the Ready condition"
return hs
