from accounts.models import Account
from accounts.tests.factories import AccountFactory
from crm import visibility


def test_queryset_and_object_checks_agree(cast):
    private = AccountFactory(owner=cast["owner"])
    shared = AccountFactory(owner=cast["owner"], shared_with_team=True)
    foreign = AccountFactory(owner=cast["outsider"])
    for user in cast.values():
        visible_ids = set(Account.objects.visible_to(user).values_list("id", flat=True))
        editable_ids = set(Account.objects.editable_by(user).values_list("id", flat=True))
        for account in (private, shared, foreign):
            assert (account.pk in visible_ids) is visibility.can_see(user, account), user.role
            assert (account.pk in editable_ids) is visibility.can_edit(user, account), user.role


def test_inactive_user_sees_nothing(owner):
    AccountFactory(owner=owner)
    owner.is_active = False
    assert not Account.objects.visible_to(owner).exists()


def test_manager_sees_every_team_they_manage(manager, outsider, other_team):
    other_team.manager = manager
    other_team.save()
    account = AccountFactory(owner=outsider)
    assert Account.objects.visible_to(manager).filter(pk=account.pk).exists()


def test_only_writers_may_create(cast):
    assert visibility.can_create(cast["owner"], Account)
    assert visibility.can_create(cast["admin"], Account)
    assert not visibility.can_create(cast["executive"], Account)
    assert not visibility.can_create(cast["support_agent"], Account)


def test_a_record_seen_through_another_is_visible_on_its_own_page_too(cast, client):
    """An activity someone else logged on my account is mine to read (Activity.visible_through): the
    object check agrees with the list's query. Found by mutation testing (`make mutation`)."""
    from activities.models import Activity, ActivityKind

    account = AccountFactory(owner=cast["owner"])
    call = Activity.objects.create(owner=cast["outsider"], team=cast["outsider"].team, account=account,
                                   kind=ActivityKind.CALL, subject="Звонок")
    assert visibility.can_see(cast["owner"], call)
    assert Activity.objects.visible_to(cast["owner"]).filter(pk=call.pk).exists()
    client.force_login(cast["owner"])
    assert client.get(call.get_absolute_url()).status_code == 200
    assert not visibility.can_see(cast["teammate"], call)  # neither the account nor the call is theirs


def test_a_linked_records_flag_follows_every_branch_of_the_policy(cast):
    """with_visibility_flag: the link to a teammate's shared account shows, to their private one does
    not (the policy's OR survives the move onto the foreign key). Found by mutation testing."""
    from sales.models import Opportunity
    from sales.tests.factories import OpportunityFactory

    teammate, owner = cast["teammate"], cast["owner"]
    shared = OpportunityFactory(owner=owner, account=AccountFactory(owner=teammate, shared_with_team=True))
    private = OpportunityFactory(owner=owner, account=AccountFactory(owner=teammate))
    mine = OpportunityFactory(owner=owner, account=AccountFactory(owner=owner))
    flags = dict(visibility.with_visibility_flag(Opportunity.objects.filter(owner=owner), owner, "account")
                 .values_list("pk", "account_visible"))
    assert flags == {shared.pk: True, private.pk: False, mine.pk: True}


def test_whom_each_role_may_make_an_owner(cast):
    """assignable_owners: a manager their teams and themselves, a rep only themselves, never someone
    deactivated. Found by mutation testing."""
    from crm.tests.factories import UserFactory

    manager, owner, teammate, outsider = cast["manager"], cast["owner"], cast["teammate"], cast["outsider"]
    gone = UserFactory(email="gone@example.com", team=owner.team, is_active=False)
    assert set(visibility.assignable_owners(manager)) >= {manager, owner, teammate}
    assert outsider not in visibility.assignable_owners(manager) and gone not in visibility.assignable_owners(manager)
    assert list(visibility.assignable_owners(owner)) == [owner]
    assert gone not in visibility.assignable_owners(cast["admin"])


def test_the_record_asked_for_is_the_one_given(cast):
    """get_editable_or_404 looks the record up by what the URL names. Found by mutation testing."""
    first, second = AccountFactory(owner=cast["owner"]), AccountFactory(owner=cast["owner"])
    assert visibility.get_editable_or_404(Account, cast["owner"], pk=second.pk) == second
    assert visibility.get_editable_or_404(Account, cast["owner"], pk=first.pk) == first


def test_a_linked_record_in_the_bin_is_no_link_and_a_reader_of_all_sees_the_rest(cast):
    """with_visibility_flag: a deleted account is not shown as a link, and the executive (who reads all
    and writes nothing) sees every live one. Found by mutation testing."""
    from django.utils import timezone

    from sales.models import Opportunity
    from sales.tests.factories import OpportunityFactory

    owner, executive = cast["owner"], cast["executive"]
    binned = OpportunityFactory(owner=owner, account=AccountFactory(owner=owner, deleted_at=timezone.now()))
    live = OpportunityFactory(owner=owner, account=AccountFactory(owner=owner))
    deals = Opportunity.objects.filter(pk__in=[binned.pk, live.pk])
    assert dict(visibility.with_visibility_flag(deals, owner, "account").values_list("pk", "account_visible")) == {
        binned.pk: False, live.pk: True}
    flags = visibility.with_visibility_flag(deals, executive, "account").values_list("pk", "account_visible")
    assert dict(flags) == {binned.pk: False, live.pk: True}
